/**
 * The SDK's JSON Schema validator (Ajv, for elicitation answers), built when a schema is first validated rather
 * than with every McpServer: constructing Ajv with its formats costs a few milliseconds of each stdio server's
 * start-up and of each HTTP session, and most sessions never elicit.
 */
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';

export class LazyJsonSchemaValidator implements jsonSchemaValidator {
  private inner: AjvJsonSchemaValidator | undefined;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    this.inner ??= new AjvJsonSchemaValidator();
    return this.inner.getValidator<T>(schema);
  }
}
