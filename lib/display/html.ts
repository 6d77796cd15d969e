/**
 * Small HTML helpers of the display kit: escaping, JSON inside a <script>, number formatting. Pure
 * string functions, no I/O.
 */

/** Escapes text for use in HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON that is safe inside an inline <script>: `</script>` and `<!--` cannot end or comment the
 * element, and U+2028/U+2029 (valid in JSON, historically not in JS strings) are escaped.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new Error('jsonForScript: value is not JSON-serialisable (undefined or a function)');
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inserts thousands separators into a string of digits (with optional sign). */
function groupThousands(intPart: string): string {
  const sign = intPart.startsWith('-') ? '-' : '';
  const digits = sign ? intPart.slice(1) : intPart;
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Formats a number for a table: integers with thousands separators (9,742); other values with
 * `digits` decimals (0.0462), switching to exponent notation when fixed notation would show only
 * zeros or be very long. Non-finite values print as NaN, inf, -inf.
 */
export function formatNumber(x: number, digits = 3): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new Error(`formatNumber: digits must be an integer in 0..20, got ${digits}`);
  }
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return groupThousands(x.toFixed(0));
  const ax = Math.abs(x);
  if (ax >= 1e15 || (ax < 0.5 * Math.pow(10, -digits) && ax > 0)) {
    return x.toExponential(Math.max(1, Math.min(digits, 3) - 1));
  }
  const fixed = x.toFixed(digits);
  const [intPart, frac] = fixed.split('.');
  return frac === undefined ? groupThousands(intPart) : `${groupThousands(intPart)}.${frac}`;
}

/** Formats any cell value as plain text: numbers via formatNumber, arrays joined, objects as JSON. */
export function formatValue(value: unknown, digits = 3): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value, digits);
  if (typeof value === 'bigint') return groupThousands(value.toString());
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return Array.from(value as ArrayLike<unknown>, (v) => formatValue(v, digits)).join(', ');
  }
  return JSON.stringify(value);
}
