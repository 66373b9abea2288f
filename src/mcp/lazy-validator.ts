/**
 * The SDK's JSON Schema validator (Ajv, for elicitation answers), loaded and built when a schema is first
 * validated rather than with every McpServer: Ajv's ~70 modules and its construction with formats cost ~10 ms of
 * each stdio server's start-up, and most sessions never elicit. Every McpServer mailgate makes is given one, so
 * the bundle leaves the SDK's own default out (rolldown.config.mjs); it is required here, from the SDK's
 * CommonJS build, on first use.
 */
import { createRequire } from 'node:module';
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';
import type { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';

const load = createRequire(import.meta.url);

export class LazyJsonSchemaValidator implements jsonSchemaValidator {
  private inner: AjvJsonSchemaValidator | undefined;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    if (!this.inner) {
      const ajv = load('@modelcontextprotocol/sdk/validation/ajv') as typeof import('@modelcontextprotocol/sdk/validation/ajv');
      this.inner = new ajv.AjvJsonSchemaValidator();
    }
    return this.inner.getValidator<T>(schema);
  }
}
