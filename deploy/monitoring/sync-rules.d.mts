/** The PrometheusRule manifest text for the rule files in rules/. */
export function renderPrometheusRule(): string;
/** The PrometheusRule manifest text for platform/platform.rules.yaml. */
export function renderPlatformRule(): string;
