/**
 * The little XML S3 needs: building responses from plain objects, and reading the three request bodies
 * clients send (CompleteMultipartUpload, Delete, CreateBucketConfiguration), which are flat lists of
 * known elements, so a tolerant element reader is enough.
 */
import { AwsError, xmlEscape } from '../http/errors';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A value in an XML tree: text, a nested element map, or a list rendered as repeated elements. */
export type XmlValue = string | number | boolean | undefined | XmlNode | XmlValue[];
export interface XmlNode {
  [element: string]: XmlValue;
}

function render(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => render(name, v)).join('');
  if (typeof value === 'object') return `<${name}>${Object.entries(value).map(([k, v]) => render(k, v)).join('')}</${name}>`;
  return `<${name}>${xmlEscape(String(value))}</${name}>`;
}

/** `<?xml ...?><Root xmlns="...s3...">...</Root>` from a plain object (undefined members are left out). */
export function s3Xml(root: string, body: XmlNode): string {
  const inner = Object.entries(body).map(([k, v]) => render(k, v)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_XMLNS}">${inner}</${root}>`;
}

/** Decode the five XML entities and numeric character references. */
export function xmlUnescape(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'apos') return "'";
    if (e === 'quot') return '"';
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** Inner XML of every <name>...</name> element (namespace prefixes ignored), in document order. */
export function xmlElements(xml: string, name: string): string[] {
  const re = new RegExp(`<(?:[A-Za-z0-9_]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9_]+:)?${name}>`, 'g');
  return [...xml.matchAll(re)].map((m) => m[1]);
}

/** Text of the first <name> element, unescaped; undefined when absent. */
export function xmlText(xml: string, name: string): string | undefined {
  const found = xmlElements(xml, name)[0];
  return found === undefined ? undefined : xmlUnescape(found);
}

/** Refuse a body that is not an XML document with the expected root element. */
export function requireXmlRoot(body: Buffer, root: string): string {
  const xml = body.toString('utf8');
  if (!new RegExp(`<(?:[A-Za-z0-9_]+:)?${root}[\\s>]`).test(xml) || !xml.includes(`${root}>`)) {
    throw new AwsError('MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema: expected a <${root}> document.`, 400);
  }
  return xml;
}
