// Loads the native addon: a prebuild from prebuilds/, or a local build in
// build/Release. QSOCKET_ADDON names an exact file instead (the ASan build).
import * as path from 'path';
import type { Binding } from '../binding';

function load(): Binding {
  const explicit = process.env.QSOCKET_ADDON;
  if (explicit) return require(path.resolve(explicit)) as Binding;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => Binding;
  return nodeGypBuild(path.join(__dirname, '..'));
}

export const binding: Binding = load();
// The addon builds these objects property by property, which leaves them in
// V8's dictionary mode: every `E.EAGAIN` on a hot path would then be a hash
// lookup through an inline-cache miss. A spread copy has fast properties.
export const C: Binding['constants'] = { ...binding.constants };
export const E: Binding['errno'] = { ...binding.errno };
