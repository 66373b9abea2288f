/** A MIME type from a file name, using nodemailer's own table so what we record is what the composer would pick. */
import { detectMimeType } from 'nodemailer/lib/mime-funcs';

export function guessContentType(filename: string): string {
  return detectMimeType(filename) || 'application/octet-stream';
}
