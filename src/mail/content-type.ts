/** A MIME type from a file name, using nodemailer's own table so what we record is what the composer would pick. */
import { createRequire } from 'node:module';

type MimeFuncs = typeof import('nodemailer/lib/mime-funcs');

// Required on first use, synchronously (the callers are synchronous): start-up does not load nodemailer.
const require = createRequire(import.meta.url);
let mimeFuncs: MimeFuncs | undefined;

export function guessContentType(filename: string): string {
  mimeFuncs ??= require('nodemailer/lib/mime-funcs') as MimeFuncs;
  return mimeFuncs.detectMimeType(filename) || 'application/octet-stream';
}
