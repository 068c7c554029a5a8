#!/usr/bin/env node
// Prints the SecretStore `missionlink` for the kind job: External Secrets'
// fake provider holding a freshly generated value for every remote key the
// rendered overlay's ExternalSecrets read (database credentials, an Ed25519
// signing key, the payment and audit secrets, an SMTP URL that goes nowhere).
// Nothing here is a real secret; a new set is made on every run.
//   kubectl kustomize deploy/kind | node deploy/kind/fake-secrets.mjs | kubectl apply -n missionlink-dev -f -
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

const token = (n = 32) => randomBytes(n).toString('base64url');

/** A plausible value for each remote key the overlays use. */
export function fakeValue(key) {
  switch (key) {
    case 'identity-db':
      return JSON.stringify({ username: 'identity', password: token() });
    case 'funding-db':
      return JSON.stringify({ username: 'funding', password: token() });
    case 'signing-keys': {
      const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
      return JSON.stringify([{ ...jwk, kid: `kind-${Date.now()}` }]);
    }
    case 'smtp':
      return JSON.stringify({ url: `smtp://kind:${token(12)}@mail.invalid:587` });
    case 'payment-webhook-secret':
    case 'audit-hmac-key':
      return token(48);
    default:
      throw new Error(
        `no fake value for the remote key ${key}: add one to deploy/kind/fake-secrets.mjs`,
      );
  }
}

/** The fake SecretStore for the ExternalSecrets among `objects`. */
export function fakeSecretStore(objects) {
  const keys = new Set();
  for (const o of objects)
    if (o?.kind === 'ExternalSecret') for (const d of o.spec.data ?? []) keys.add(d.remoteRef.key);
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'missionlink' },
    spec: {
      provider: { fake: { data: [...keys].sort().map((key) => ({ key, value: fakeValue(key) })) } },
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const objects = parseAllDocuments(readFileSync(0, 'utf8')).map((d) => d.toJS());
  process.stdout.write(stringify(fakeSecretStore(objects)));
}
