export const KIND_ADDONS: string[];
export function plan(): { name: string; args: string[]; values: unknown }[];
