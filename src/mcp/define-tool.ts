/**
 * defineTool: a tool is metadata plus a few lines of handler. Annotations derive from `access` and are never
 * set by hand; which roles see a tool derives from `access` too (src/mcp/roles.ts).
 */
import type { ContentBlock, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type * as z from 'zod';
import type { ConfirmChannel } from '../services/confirm.js';
import type { AppContext, Principal } from '../services/context.js';

/**
 * read: agent reads of mailbox content; write: agent actions that send or change mail; queue: read-only view
 * of the approval queue; review: human decisions; audit: the audit log; admin: mailbox administration.
 */
export type Access = 'read' | 'write' | 'queue' | 'review' | 'audit' | 'admin';

export interface ToolCall {
  ctx: AppContext;
  principal: Principal;
  signal: AbortSignal;
  /** Sends a progress notification when the client asked for them (a progressToken); otherwise a no-op. */
  progress(progress: number, total: number | undefined, message: string): Promise<void>;
  /** How to reach the person behind the client, for approvals only they can give (src/services/confirm.ts). */
  confirm: ConfirmChannel;
}

export interface ToolDef<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  /** The MCPMail spelling, registered instead when `tool_names: "dotted"` is set. */
  dottedName?: string;
  title: string;
  description: string;
  access: Access;
  input: I;
  output: O;
  /** Inbound mail in the result is untrusted third-party content; the formatter marks it as such. */
  untrustedContent?: boolean;
  handler: (args: z.output<z.ZodObject<I>>, call: ToolCall) => Promise<z.input<z.ZodObject<O>>>;
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDef<I, O>): ToolDef<I, O> {
  return def;
}

export function annotationsFor(access: Access, title: string): ToolAnnotations {
  switch (access) {
    case 'read':
      return { title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
    case 'queue':
    case 'audit':
      return { title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
    case 'write':
    case 'review':
      // Sending cannot be undone, and mail reaches the outside world.
      return { title, readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
    case 'admin':
      return { title, readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
  }
}

/**
 * Content blocks a result carries beside its JSON (an attachment's bytes as an embedded resource): kept under a
 * symbol, so they reach the result formatter (src/mcp/result.ts) but never structuredContent or its JSON text.
 */
export const EXTRA_CONTENT: unique symbol = Symbol('mailgate.extraContent');

/** Returns `out` with `blocks` to add after the JSON text block of the tool's result. */
export function withContent<T extends object>(out: T, blocks: readonly ContentBlock[]): T {
  return Object.assign(out, { [EXTRA_CONTENT]: blocks });
}
