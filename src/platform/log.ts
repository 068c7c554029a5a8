import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino blanks out wherever they appear: credentials never reach the logs. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
  '*.secret',
  '*.privateKey',
  '*.d',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'missionlink', pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (destination as pino.DestinationStream | undefined) ?? stdoutDestination(),
  );
}

/**
 * Standard output, written synchronously as pino does by default, except that
 * a terminal or pipe that went away (EIO when the terminal closed, EPIPE when
 * the reader exited) silences the log instead of crashing a process that may
 * be in the middle of a clean stop.
 */
function stdoutDestination(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, sync: true });
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO' && err.code !== 'EPIPE') throw err;
    stream.write = () => true;
  });
  return stream;
}
