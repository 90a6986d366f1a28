import type { FileJobMessage, InitMessage, JobMessage, WorkerReply } from './protocol.ts';

export interface JobRunner {
  init(msg: InitMessage): void;
  /** The reply for one job (never rejects); one job at a time per runner. */
  handle(msg: JobMessage | FileJobMessage): Promise<WorkerReply>;
}

export function createJobRunner(who: string): JobRunner;
