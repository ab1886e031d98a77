/**
 * The XML S3 speaks: responses built from plain objects, and the three request bodies clients send
 * (CompleteMultipartUpload, Delete, CreateBucketConfiguration) read with fast-xml-parser, whose time is
 * linear in the input (a hand-written regex reader went quadratic on unclosed tags). Before parsing, a
 * document is held to a size bound and refused, as S3 does with MalformedXML, when it declares a DTD or
 * uses an entity XML does not define (HTML names, numeric references outside XML's characters).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError, xmlEscape } from '../http/errors';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
/**
 * Largest XML request document read. The largest legitimate one, CompleteMultipartUpload with 10,000
 * parts and their checksums, stays under 4 MiB.
 */
export const MAX_XML_DOCUMENT_BYTES = 8 * 1024 * 1024;

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

/** A parsed request element: child elements by name (text, nested element, or a list for repeatable ones). */
export interface XmlElement {
  [child: string]: unknown;
}

function malformed(why: string): AwsError {
  return new AwsError('MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema: ${why}`, 400);
}

const XML_NAMED_ENTITIES = new Set(['lt', 'gt', 'amp', 'apos', 'quot']);

/** True for a code point XML 1.0 allows in a document (its production Char). */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Refuse entity references XML does not define; one linear pass over the text. */
function checkEntities(xml: string): void {
  for (const m of xml.matchAll(/&(#x[0-9A-Fa-f]{1,8}|#[0-9]{1,10}|[A-Za-z_][A-Za-z0-9_.-]{0,40});/g)) {
    const ref = m[1];
    if (ref[0] !== '#') {
      if (!XML_NAMED_ENTITIES.has(ref)) throw malformed(`undefined entity &${ref};`);
      continue;
    }
    const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (!isXmlChar(cp)) throw malformed(`character reference &${ref}; is not a character XML allows`);
  }
}

/**
 * Read a request body as an XML document whose root element is `root`; elements named in `lists` are
 * always arrays. Throws MalformedXML (400) for anything that is not such a document, MaxMessageLengthExceeded
 * when it is larger than MAX_XML_DOCUMENT_BYTES.
 */
export function readXmlDocument(body: Buffer, root: string, lists: readonly string[] = []): XmlElement {
  if (body.length > MAX_XML_DOCUMENT_BYTES) {
    throw new AwsError('MaxMessageLengthExceeded', `Your request was too big: XML documents are limited to ${MAX_XML_DOCUMENT_BYTES} bytes.`, 400);
  }
  const xml = body.toString('utf8');
  if (/<!DOCTYPE/i.test(xml)) throw malformed('document type declarations are not allowed.');
  checkEntities(xml);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw malformed(`${valid.err.msg} (line ${valid.err.line}).`);
  const listNames = new Set(lists);
  const parser = new XMLParser({
    ignoreAttributes: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: false,
    htmlEntities: true, // decodes numeric references (checked above); named ones are limited to XML's five
    isArray: (name) => listNames.has(name),
  });
  const doc = parser.parse(xml) as Record<string, unknown>;
  const names = Object.keys(doc);
  if (names.length !== 1 || names[0] !== root) throw malformed(`expected one <${root}> document.`);
  const element = doc[root];
  // <Root/> parses as '' (no children).
  if (element === '') return {};
  if (typeof element !== 'object' || element === null || Array.isArray(element)) throw malformed(`<${root}> holds text instead of elements.`);
  return element as XmlElement;
}

/** Text of a child element; undefined when absent; MalformedXML when it holds elements or repeats. */
export function xmlChildText(element: XmlElement, name: string): string | undefined {
  const value = element[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw malformed(`<${name}> must hold text.`);
  return value;
}

/** Every child element named `name` (one of the document's `lists`), each as an element. */
export function xmlChildElements(element: XmlElement, name: string): XmlElement[] {
  const value = element[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw malformed(`<${name}> must be a list.`);
  return value.map((v) => {
    if (v === '') return {};
    if (typeof v !== 'object' || v === null) throw malformed(`<${name}> must hold elements.`);
    return v as XmlElement;
  });
}
