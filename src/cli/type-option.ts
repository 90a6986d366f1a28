/**
 * `-t, --type`, shared by convert and quantize. Apart from options.ts because its parser needs the
 * file type and policy tables (src/options/target-type.ts), which inspect and pull never load.
 */
import { Option } from 'commander';
import { targetType } from '../options/target-type.ts';
import { parser } from './options.ts';

export const typeOption = (groupwise: boolean, description: string) =>
  new Option('-t, --type <type>', description).argParser(parser((v) => targetType(v, groupwise)));
