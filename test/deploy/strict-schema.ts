// The strict pass of schema validation: kubernetes-models' validate() checks
// types and required fields but lets unknown fields through (a typo such as
// `readinessProbes` would be silently dropped by the API server). Here every
// object becomes a TypeScript object literal typed by its model interface
// (`const o: IDeployment = {...}`), and the compiler's excess-property check
// reports every field the schema does not know, at any depth.
import path from 'node:path';
import ts from 'typescript';
import { isPinnedKind, modelModule, modelView, REPO_ROOT, type K8sObject } from './support.ts';

export interface StrictProblem {
  index: number;
  object: string;
  message: string;
}

/**
 * Type-checks `objects` against their model interfaces; returns one entry per
 * diagnostic. Kinds with a pinned CRD schema are skipped: validateModel's
 * pinned check is already strict.
 */
export function strictCheck(all: K8sObject[]): StrictProblem[] {
  const objects = all.filter((o) => !isPinnedKind(o));
  const imports = new Map<string, string>();
  const lines: string[] = [];
  const starts: number[] = [];
  objects.forEach((original, i) => {
    const obj = modelView(original).obj;
    const module = modelModule(obj);
    let alias = imports.get(module);
    if (!alias) {
      alias = `T${imports.size}`;
      imports.set(module, alias);
    }
    starts.push(lines.length);
    lines.push(`export const o${i}: ${alias} = ${JSON.stringify(stripStatus(obj), null, 1)};`);
  });
  const header = [...imports].map(
    ([module, alias]) =>
      `import type { I${module.split('/').pop()} as ${alias} } from '${module}';`,
  );
  const text = [...header, ...lines].join('\n');
  const offset = header.length;

  const file = path.join(REPO_ROOT, 'test/deploy/__strict_schema_check__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? text : readFile(f));
  host.fileExists = (f) => path.resolve(f) === file || fileExists(f);
  host.getSourceFile = (f, lang, onError, create) =>
    path.resolve(f) === file
      ? ts.createSourceFile(f, text, lang, true)
      : getSourceFile(f, lang, onError, create);
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file)!;
  const diagnostics = [
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
  ];

  // Map each diagnostic's line back to the object that holds it.
  const lineStarts = starts.map((s, i) => ({
    i,
    line: s + offset + lines.slice(0, i).reduce((n, l) => n + l.split('\n').length - 1, 0),
  }));
  return diagnostics.map((d) => {
    const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
    const hit = [...lineStarts].reverse().find((s) => s.line <= line) ?? { i: -1 };
    const obj = objects[hit.i];
    return {
      index: hit.i,
      object: obj ? `${obj.kind}/${obj.metadata.name}` : '(header)',
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    };
  });
}

function stripStatus(obj: K8sObject): K8sObject {
  const rest: K8sObject = { ...obj };
  delete rest.status;
  return rest;
}
