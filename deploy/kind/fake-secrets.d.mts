export function fakeValue(key: string): string;
export function fakeSecretStore(objects: unknown[]): {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { provider: { fake: { data: { key: string; value: string }[] } } };
};
