/** The PrometheusRule manifest text for the rule files in rules/. */
export function renderPrometheusRule(): string;
