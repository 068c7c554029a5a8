/** Where the generated types go (web/src/api.gen.ts). */
export const OUTPUT: string;
/** The OpenAPI document exactly as GET /api/v1/openapi.json serves it (composed without a database). */
export function publishedDocument(): Promise<Record<string, unknown>>;
/** The text of web/src/api.gen.ts for an OpenAPI document. */
export function renderApiTypes(doc: Record<string, unknown>): Promise<string>;
/** What web/src/api.gen.ts should contain now. */
export function generateApiTypes(): Promise<string>;
