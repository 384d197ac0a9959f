/**
 * Line numbers of the elements of a JSON document's top-level arrays
 * (`{"people": [ {...}, {...} ]}` → people: [line of 1st, line of 2nd]), so
 * an error in a JSON whitelist names file:line like a CSV one. The text has
 * already been parsed by JSON.parse, so this scan can assume it is valid.
 */
export function topLevelElementLines(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let line = 1;
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let lastString = '';
  let key: string | undefined;
  let arrayOfKey: string | undefined;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        lastString = text.slice(stringStart, i);
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    // An element of a top-level array starts here (depth 2, first token after '[' or ',').
    if (expectElement && depth === 2 && arrayOfKey !== undefined && c !== ']') {
      out.get(arrayOfKey)!.push(line);
      expectElement = false;
    }
    if (c === '"') {
      inString = true;
      stringStart = i + 1;
    } else if (c === ':' && depth === 1) {
      key = lastString;
    } else if (c === '{' || c === '[') {
      depth++;
      if (c === '[' && depth === 2 && key !== undefined) {
        arrayOfKey = key;
        out.set(key, []);
        expectElement = true;
      }
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 1) {
        arrayOfKey = undefined;
        expectElement = false;
      }
    } else if (c === ',' && depth === 2 && arrayOfKey !== undefined) {
      expectElement = true;
    }
  }
  return out;
}
