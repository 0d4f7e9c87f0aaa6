// The resolve hook of import-log.mjs.
import fs from 'node:fs';

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  fs.writeSync(2, `import ${resolved.url}\n`);
  return resolved;
}
