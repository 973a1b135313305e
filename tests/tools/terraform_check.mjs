// Checks a Terraform module without Terraform (not packaged for Debian): every *.tf parses
// with HashiCorp's HCL parser (@cdktf/hcl2json, hcl2json compiled to WebAssembly), and every
// reference in an expression names something the module declares: var.X a variable,
// local.X a local, data.T.N a data source, T.N a resource, module.X a module.
//
// Usage: node terraform_check.mjs MODULE_DIR
// Prints {"errors": [...], "module": {merged parse of every file}} as JSON; exits 1 when
// there is any error.
import { createRequire } from "node:module";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { parse, getReferencesInExpression } = require("@cdktf/hcl2json");

const dir = process.argv[2];
if (!dir) {
  console.error("usage: terraform_check.mjs MODULE_DIR");
  process.exit(2);
}

const errors = [];
const module = {};
const files = readdirSync(dir).filter((f) => f.endsWith(".tf")).sort();
if (files.length === 0) errors.push(`${dir}: no .tf files`);

for (const file of files) {
  try {
    const parsed = await parse(file, readFileSync(join(dir, file), "utf8"));
    for (const [kind, blocks] of Object.entries(parsed)) {
      module[kind] ??= {};
      for (const [key, value] of Object.entries(blocks)) {
        if (kind === "resource" || kind === "data") {
          module[kind][key] ??= {};
          for (const [name, body] of Object.entries(value)) {
            if (module[kind][key][name]) errors.push(`${file}: ${kind} ${key}.${name} declared twice`);
            module[kind][key][name] = body;
          }
        } else if (kind === "locals") {
          // A list of locals blocks, each a map of names.
          module.locals = Array.isArray(module.locals) ? module.locals : [];
          module.locals.push(...(Array.isArray(value) ? value : [value]));
        } else {
          if (kind === "variable" || kind === "output") {
            if (module[kind][key]) errors.push(`${file}: ${kind} ${key} declared twice`);
          }
          module[kind][key] = value;
        }
      }
    }
  } catch (e) {
    errors.push(`${file}: ${e.message}`);
  }
}

const declared = {
  variables: new Set(Object.keys(module.variable ?? {})),
  locals: new Set(),
  resources: new Set(),
  data: new Set(),
  modules: new Set(Object.keys(module.module ?? {})),
  // Iterators of dynamic blocks (their label unless `iterator` renames it).
  iterators: new Set(),
};
for (const block of module.locals ?? []) {
  for (const name of Object.keys(block)) {
    if (declared.locals.has(name)) errors.push(`local.${name} declared twice`);
    declared.locals.add(name);
  }
}
for (const [type, byName] of Object.entries(module.resource ?? {}))
  for (const name of Object.keys(byName)) declared.resources.add(`${type}.${name}`);
for (const [type, byName] of Object.entries(module.data ?? {}))
  for (const name of Object.keys(byName)) declared.data.add(`${type}.${name}`);

// Every string with an interpolation, with where it is.
const expressions = [];
function walk(value, where) {
  if (typeof value === "string") {
    if (value.includes("${")) expressions.push([where, value]);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, `${where}[${i}]`));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "dynamic") {
        for (const [label, bodies] of Object.entries(v)) {
          for (const body of bodies) declared.iterators.add(body.iterator ?? label);
        }
      }
      walk(v, `${where}.${k}`);
    }
  }
}
walk(module, "module");

const builtins = new Set(["each", "count", "self", "path", "terraform"]);
function check(where, ref) {
  const parts = ref.split(".");
  const [head] = parts;
  if (head === "var") {
    if (!declared.variables.has(parts[1])) errors.push(`${where}: undeclared variable var.${parts[1]}`);
  } else if (head === "local") {
    if (!declared.locals.has(parts[1])) errors.push(`${where}: undeclared local local.${parts[1]}`);
  } else if (head === "data") {
    if (!declared.data.has(`${parts[1]}.${parts[2]}`)) errors.push(`${where}: undeclared data source ${ref}`);
  } else if (head === "module") {
    if (!declared.modules.has(parts[1])) errors.push(`${where}: undeclared module ${ref}`);
  } else if (builtins.has(head) || declared.iterators.has(head)) {
    // Terraform's own objects and dynamic-block iterators.
  } else if (/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(head) && parts.length >= 2) {
    if (!declared.resources.has(`${head}.${parts[1]}`)) errors.push(`${where}: undeclared resource ${head}.${parts[1]}`);
  }
  // Anything else is a for-expression's own variable.
}

// The parser's references, and a scan of the text for what it skips: a traversal indexed
// by a for-expression's variable (aws_x.y[k].z inside `for k in ...`) is not reported.
const scan =
  /(?<![\w.])(var\.[A-Za-z_][\w-]*|local\.[A-Za-z_][\w-]*|data\.[a-z][\w]*\.[A-Za-z_][\w-]*|module\.[A-Za-z_][\w-]*|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*)/g;
for (const [where, text] of expressions) {
  const refs = new Set();
  try {
    for (const r of await getReferencesInExpression("module.tf", text)) refs.add(r.value);
  } catch (e) {
    errors.push(`${where}: ${e.message}`);
  }
  for (const m of text.matchAll(scan)) refs.add(m[1]);
  for (const ref of refs) check(where, ref);
}

process.stdout.write(JSON.stringify({ errors, module }, null, 1) + "\n");
process.exit(errors.length ? 1 : 0);
