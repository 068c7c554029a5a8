import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id with OWASP's recommended floor (2023): 19 MiB memory, 2 passes,
 * one lane. ~10 ms per hash on this project's reference machine; raise the
 * cost together with the login benchmark.
 */
export const ARGON2_PARAMS = {
  algorithm: 2, // Algorithm.Argon2id (a const enum; its value is spelled out for isolated modules)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;
/**
 * A hash of a random password with the same parameters. Logins for unknown
 * emails verify against it, so they cost the same time as a wrong password.
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomUUID());
  return dummy;
}
