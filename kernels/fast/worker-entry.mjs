// Plain-JS entry of a pool worker: registers tsx in this thread (loader hooks given to the parent
// through --import do not reach worker threads on Node 20), then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
