#!/usr/bin/env node
// The installed `gguf-forge` command: TypeScript sources run through tsx's loader, so a fresh
// clone works with no build step.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
