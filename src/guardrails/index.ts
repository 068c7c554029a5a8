// Public surface of the guardrails module: a viewer's own spending limits
// and self-exclusion (API.md Part 2, "Spending guardrails"). The limits are
// enforced by the pledge writer's statement (missions), which reads their row.
export { SpendingGuards, type Limits } from './service.ts';
export { guardrailRoutes } from './routes.ts';
