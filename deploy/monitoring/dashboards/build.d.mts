/** The dashboards, by file name (JSON-serialisable objects). */
export function dashboards(): Record<string, Record<string, unknown>>;
