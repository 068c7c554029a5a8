// Public surface of the webhooks module: a channel owner's outbound webhook
// endpoints (Standard Webhooks), and the worker role that delivers events
// from the outbox to them.
export { WebhookService, MAX_ENDPOINTS, disabledWebhook, type Endpoint, type Attempt } from './service.ts';
export { WebhookWorker, WEBHOOK_DISABLED, type WebhookDisabled, type WebhookHooks, type WebhookWorkerOptions } from './worker.ts';
export { webhookRoutes } from './routes.ts';
export { EVENT_TYPES, TOPIC_TYPES, TEST_EVENT_TYPE, type EventType } from './events.ts';
export { isPublicAddress, checkUrl, type EgressPolicy } from './egress.ts';
