// Validation against pinned CRD schemas (test/deploy/crds/*.json, written by
// crds/pin.mjs from each project's release tag) for the kinds no
// kubernetes-models package ships: Envoy Gateway's EnvoyProxy and
// SecurityPolicy, cert-manager's ClusterIssuer, KEDA's ScaledObject.
//
// The check is the API server's structural-schema check made strict: types,
// enums, required fields, patterns, min/max, formats we can check cheaply,
// and — unlike the API server, which prunes them silently — every field the
// schema does not know is an error. The CEL rules of the schema
// (x-kubernetes-validations) are evaluated with @marcbachmann/cel-js; a rule
// that needs the old object (transition rules) or a Kubernetes CEL library
// function cel-js lacks is counted as not evaluated, never as passed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate } from '@marcbachmann/cel-js';
import type { K8sObject } from './support.ts';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crds');

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  format?: string;
  nullable?: boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  not?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
}

interface Pinned {
  source: string;
  commit: string;
  group: string;
  kind: string;
  scope: string;
  versions: Record<string, Schema>;
}

const PINNED: Pinned[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Pinned);

/** The pinned schema of `apiVersion`/`kind`, if there is one. */
export function pinnedSchema(obj: Pick<K8sObject, 'apiVersion' | 'kind'>): Schema | undefined {
  const [group, version] = obj.apiVersion.split('/');
  return PINNED.find((p) => p.group === group && p.kind === obj.kind)?.versions[version!];
}

/** Whether the API group of `apiVersion` is one the pinned schemas cover. */
export const pinnedGroups = new Set(PINNED.map((p) => p.group));

export interface CrdResult {
  errors: string[];
  /** CEL rules that could not be evaluated here (transition rules, missing functions). */
  notEvaluated: string[];
  /** CEL rules evaluated (and passed or failed). */
  evaluated: number;
}

const typeOf = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'bigint' ? 'integer' : typeof v;

function typeOk(s: Schema, v: unknown): boolean {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || Number.isInteger(v);
  switch (s.type) {
    case undefined:
      return true;
    case 'object':
      return typeOf(v) === 'object';
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return false;
  }
}

/** Converts JSON numbers to what CEL expects: integers as BigInt. */
function celValue(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(celValue);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, celValue(x)]));
  return v;
}

function check(s: Schema, v: unknown, at: string, out: CrdResult): void {
  if (v === null) {
    if (!s.nullable) out.errors.push(`${at}: null is not allowed`);
    return;
  }
  if (!typeOk(s, v)) {
    out.errors.push(`${at}: expected ${s.type ?? 'int-or-string'}, got ${typeOf(v)}`);
    return;
  }
  if (s.enum && !s.enum.includes(v))
    out.errors.push(`${at}: ${JSON.stringify(v)} not in ${JSON.stringify(s.enum)}`);
  if (typeof v === 'string') {
    if (s.pattern && !new RegExp(s.pattern, 'u').test(v))
      out.errors.push(`${at}: does not match ${s.pattern}`);
    if (s.minLength !== undefined && [...v].length < s.minLength)
      out.errors.push(`${at}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && [...v].length > s.maxLength)
      out.errors.push(`${at}: longer than ${s.maxLength}`);
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) out.errors.push(`${at}: below ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) out.errors.push(`${at}: above ${s.maximum}`);
  }
  for (const sub of s.allOf ?? []) check(sub, v, at, out);
  // anyOf/oneOf in structural schemas only add value validations (required sets).
  for (const [key, alts] of [
    ['anyOf', s.anyOf],
    ['oneOf', s.oneOf],
  ] as const) {
    if (!alts) continue;
    const passing = alts.filter((alt) => {
      const probe: CrdResult = { errors: [], notEvaluated: [], evaluated: 0 };
      check({ ...alt, type: alt.type ?? s.type }, v, at, probe);
      return probe.errors.length === 0;
    }).length;
    if (key === 'anyOf' ? passing === 0 : passing !== 1) out.errors.push(`${at}: fails ${key}`);
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems)
      out.errors.push(`${at}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && v.length > s.maxItems)
      out.errors.push(`${at}: more than ${s.maxItems} items`);
    if (s.items) v.forEach((x, i) => check(s.items!, x, `${at}[${i}]`, out));
  } else if (typeOf(v) === 'object' && s.type === 'object') {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? [])
      if (!(r in o)) out.errors.push(`${at}: missing required ${r}`);
    const n = Object.keys(o).length;
    if (s.minProperties !== undefined && n < s.minProperties)
      out.errors.push(`${at}: fewer than ${s.minProperties} fields`);
    if (s.maxProperties !== undefined && n > s.maxProperties)
      out.errors.push(`${at}: more than ${s.maxProperties} fields`);
    for (const [k, x] of Object.entries(o)) {
      const prop = s.properties?.[k];
      if (prop) check(prop, x, `${at}.${k}`, out);
      else if (typeof s.additionalProperties === 'object')
        check(s.additionalProperties, x, `${at}.${k}`, out);
      else if (
        !s['x-kubernetes-preserve-unknown-fields'] &&
        !s['x-kubernetes-embedded-resource'] &&
        !at.endsWith('.metadata')
      )
        out.errors.push(`${at}.${k}: unknown field`);
    }
  }
  for (const rule of s['x-kubernetes-validations'] ?? []) {
    if (/\boldSelf\b/.test(rule.rule)) {
      out.notEvaluated.push(`${at}: ${rule.rule}`);
      continue;
    }
    let result: unknown;
    try {
      result = evaluate(rule.rule, { self: celValue(v) });
    } catch (err) {
      const message = (err as Error).message;
      // A missing Kubernetes library function (isURL, url(), quantity …): not evaluated here.
      if (/function|overload|not supported|unknown/i.test(message)) {
        out.notEvaluated.push(`${at}: ${rule.rule} (${message.split('\n')[0]})`);
        continue;
      }
      out.errors.push(`${at}: CEL rule ${rule.rule} failed to evaluate: ${message.split('\n')[0]}`);
      continue;
    }
    out.evaluated += 1;
    if (result !== true) out.errors.push(`${at}: ${rule.message ?? rule.rule}`);
  }
}

/** Validates `obj` against its pinned CRD schema; undefined when none is pinned for it. */
export function validatePinned(obj: K8sObject): CrdResult | undefined {
  const schema = pinnedSchema(obj);
  if (!schema) return undefined;
  const out: CrdResult = { errors: [], notEvaluated: [], evaluated: 0 };
  const rest: Record<string, unknown> = { ...obj };
  delete rest.status;
  check(schema, rest, '', out);
  return out;
}
