#!/usr/bin/env node
// Synthesises the overlay's alert sound, web/src/assets/chime.wav: a short,
// soft two-note chime (E6 then B6, bell-like partials, exponential decay),
// mono 16-bit PCM at 22,050 Hz, about 0.7 s and 31 KB. Nothing is downloaded:
// the sound is computed here, and the same code gives the same file byte for
// byte (test/web/overlay-options.test.ts checks the committed file).
//
//   node scripts/gen-chime.mjs           write web/src/assets/chime.wav
//   node scripts/gen-chime.mjs --check   exit 1 when it is stale
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const OUTPUT = path.join(root, 'web', 'src', 'assets', 'chime.wav');

const RATE = 22_050;
const SECONDS = 0.7;
/** [start (s), frequency (Hz), peak amplitude]: E6, then B6 a little later. */
const NOTES = [
  [0, 1318.51, 0.5],
  [0.12, 1975.53, 0.42],
];
/** A bell's partials: [frequency ratio, relative amplitude, decay rate (1/s)]. */
const PARTIALS = [
  [1, 1, 6],
  [2.01, 0.35, 10],
  [3.02, 0.12, 16],
];

/** The chime as a complete WAV file (RIFF, PCM, mono, 16-bit). */
export function chimeWav() {
  const n = Math.round(RATE * SECONDS);
  const pcm = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    let v = 0;
    for (const [start, freq, amp] of NOTES) {
      const dt = t - start;
      if (dt < 0) continue;
      // A 4 ms attack keeps the onset from clicking.
      const attack = Math.min(1, dt / 0.004);
      for (const [ratio, rel, decay] of PARTIALS)
        v += amp * rel * attack * Math.exp(-decay * dt) * Math.sin(2 * Math.PI * freq * ratio * dt);
    }
    // The last 30 ms fade to silence.
    const tail = Math.min(1, (SECONDS - t) / 0.03);
    const sample = Math.max(-1, Math.min(1, v * 0.6 * tail));
    pcm.writeInt16LE(Math.round(sample * 32767), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 2, 28); // bytes per second
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

const isMain =
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const wav = chimeWav();
  const current = await readFile(OUTPUT).catch(() => undefined);
  const relative = path.relative(root, OUTPUT);
  if (process.argv.includes('--check')) {
    if (!current?.equals(wav)) {
      console.error(`${relative} is stale: run node scripts/gen-chime.mjs`);
      process.exitCode = 1;
    }
  } else if (current?.equals(wav)) {
    console.log(`${relative} is up to date`);
  } else {
    await writeFile(OUTPUT, wav);
    console.log(`wrote ${relative} (${wav.length} bytes)`);
  }
}
