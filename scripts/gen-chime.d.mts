/** Where the chime goes (web/src/assets/chime.wav). */
export const OUTPUT: string;
/** The overlay's alert chime as a complete WAV file, the same bytes on every run. */
export function chimeWav(): Buffer;
