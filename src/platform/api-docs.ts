import fastifySwaggerUi from '@fastify/swagger-ui';
import { openApiDocument, type App } from './http.ts';
import { CONTENT_SECURITY_POLICY } from './web.ts';

/** Where the browsable API reference lives. */
export const API_DOCS_PATH = '/api/docs';

/**
 * The API reference for people: Swagger UI (@fastify/swagger-ui, its files
 * served by this process — no CDN) rendering the same OpenAPI document as
 * /api/v1/openapi.json, under the web app's strict Content-Security-Policy
 * (its scripts and styles are files of this origin; nothing inline).
 * @example await apiDocsRoutes(http);
 */
export async function apiDocsRoutes(app: App): Promise<void> {
  await app.register(fastifySwaggerUi, {
    routePrefix: API_DOCS_PATH,
    staticCSP: CONTENT_SECURITY_POLICY,
    // The document with the problem schema and the error catalogue, as /api/v1/openapi.json serves it.
    transformSpecification: () => openApiDocument(app),
    transformSpecificationClone: false,
    theme: { title: 'MissionLink API' },
    uiConfig: {
      // Without Swagger's top bar: its inline SVG logo carries a <style>
      // element, which the CSP (rightly) refuses.
      layout: 'BaseLayout',
      deepLinking: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
      displayRequestDuration: true,
      tryItOutEnabled: false,
    },
    // Nothing leaves the origin (Swagger UI would otherwise ask validator.swagger.io).
    validatorUrl: false,
  });
}
