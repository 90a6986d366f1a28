/**
 * Every CLI command, in help order. Each module exports `register(program)`; adding a command is
 * one line here.
 */
import type { Command } from 'commander';
import { register as quantize } from './quantize.ts';
import { register as inspect } from './inspect.ts';
import { register as pull } from './pull.ts';
import { register as batch } from './batch.ts';
import { register as convert } from './convert.ts';
import { register as evalCommand } from './eval.ts';
import { register as imatrix } from './imatrix.ts';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [convert, quantize, pull, inspect, batch, evalCommand, imatrix];
