// Validates an OpenAPI document against the OpenAPI 3 schema and resolves every $ref.
// Exit 0 when valid; prints the first problem and exits 1 otherwise.
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  const operations = Object.values(api.paths).flatMap((item) => Object.keys(item).filter((k) => k !== "parameters"));
  console.log(`${file}: valid OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths, ${operations.length} operations`);
} catch (err) {
  console.error(`${file}: INVALID: ${err.message}`);
  process.exit(1);
}
