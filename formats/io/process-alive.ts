/**
 * Whether a process id names a live process on this machine: signal 0 checks without sending.
 * EPERM means it exists but belongs to someone else, which is alive too. Used to tell stale
 * temporary outputs and locks (owner killed) from ones still being written.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
