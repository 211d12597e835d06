// Syntax highlighting for lessons, with no dependency and no client cost for code blocks: fenced
// blocks are tokenised when the lesson is bundled (a rehype plugin in lessons.ts) and ship as
// <span class="tok-…">; <Command> chips reuse highlightShell in the browser (a few hundred bytes).
// Grammars: shell commands (`sh`, `bash`, `shell`, and <Command>), terminal sessions (`console`:
// lines starting with `$ ` or `# ` are commands), JSON, and command output (`text`: addresses,
// namespace links, interface states). Pure: no DOM, no Node APIs.

export type TokenKind = 'cmd' | 'flag' | 'str' | 'var' | 'num' | 'comment' | 'op' | 'prompt' | 'key' | 'kw' | 'ns' | 'addr' | 'punct';
export interface Token {
  text: string;
  kind: TokenKind | null;
}

function push(tokens: Token[], text: string, kind: TokenKind | null): void {
  if (!text) return;
  const last = tokens.at(-1);
  if (last && last.kind === kind) last.text += text;
  else tokens.push({ text, kind });
}

const ADDRESS = /^(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?/;
const NS_LINK = /^[a-z_]+:\[\d+\]/;

/** One shell command line (or several, with `;`, `&&`, `|`). */
export function highlightShell(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let expectCommand = true;
  while (i < line.length) {
    const rest = line.slice(i);
    const ch = line[i]!;
    if (/\s/.test(ch)) {
      const m = /^\s+/.exec(rest)![0];
      push(tokens, m, null);
      i += m.length;
      continue;
    }
    if (ch === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      push(tokens, rest, 'comment');
      break;
    }
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      const stop = end === -1 ? line.length : end + 1;
      push(tokens, line.slice(i, stop), 'str');
      i = stop;
      expectCommand = false;
      continue;
    }
    const op = /^(?:&&|\|\||[|;&<>]+|\$\(|\)|`)/.exec(rest);
    if (op) {
      if (op[0] === '$(') {
        push(tokens, op[0], 'var');
        expectCommand = true;
      } else {
        push(tokens, op[0], 'op');
        expectCommand = /^(?:&&|\|\||\||;|&|`)$/.test(op[0]);
      }
      i += op[0].length;
      continue;
    }
    const variable = /^\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*|[0-9?$!#@*-])/.exec(rest);
    if (variable) {
      push(tokens, variable[0], 'var');
      i += variable[0].length;
      expectCommand = false;
      continue;
    }
    const word = /^[^\s'"|;&<>()`$]+/.exec(rest)?.[0] ?? ch;
    let kind: TokenKind | null = null;
    if (expectCommand && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
      kind = 'cmd';
      // `sudo`, `nsenter ...` and friends run another command: keep highlighting it as a command only once.
      expectCommand = false;
    } else if (/^-{1,2}[A-Za-z0-9]/.test(word)) kind = 'flag';
    else if (ADDRESS.test(word)) kind = 'addr';
    else if (/^\d+$/.test(word)) kind = 'num';
    else if (/^\/[\w./-]*$/.test(word)) kind = 'str';
    push(tokens, word, kind);
    i += word.length;
  }
  return tokens;
}

/** A terminal session: `$ cmd` / `# cmd` lines are commands, the rest is output. */
export function highlightConsole(code: string): Token[] {
  const tokens: Token[] = [];
  for (const [n, line] of code.split('\n').entries()) {
    if (n > 0) push(tokens, '\n', null);
    const prompt = /^([$#] )/.exec(line);
    if (prompt) {
      push(tokens, prompt[1]!, 'prompt');
      for (const t of highlightShell(line.slice(prompt[1]!.length))) push(tokens, t.text, t.kind);
    } else {
      for (const t of highlightOutput(line)) push(tokens, t.text, t.kind);
    }
  }
  return tokens;
}

/** Command output: addresses, ns links, states and interface headers stand out. */
export function highlightOutput(code: string): Token[] {
  const tokens: Token[] = [];
  for (const [n, line] of code.split('\n').entries()) {
    if (n > 0) push(tokens, '\n', null);
    let i = 0;
    const header = /^(\d+): ([\w.@-]+):/.exec(line);
    if (header) {
      push(tokens, `${header[1]}: `, 'num');
      push(tokens, header[2]!, 'key');
      push(tokens, ':', null);
      i = header[0].length;
    }
    while (i < line.length) {
      const rest = line.slice(i);
      const before = line[i - 1] ?? ' ';
      let m: RegExpExecArray | null;
      if ((m = NS_LINK.exec(rest)) && !/\w/.test(before)) push(tokens, m[0], 'ns');
      else if ((m = ADDRESS.exec(rest)) && !/[\w.]/.test(before)) push(tokens, m[0], 'addr');
      else if ((m = /^(?:UP|DOWN|UNKNOWN|LOWER_UP|NO-CARRIER)\b/.exec(rest)) && !/\w/.test(before)) push(tokens, m[0], 'kw');
      else {
        m = /^\w+|^\s+|^./.exec(rest)!;
        push(tokens, m[0], null);
      }
      i += m[0].length;
    }
  }
  return tokens;
}

export function highlightJson(code: string): Token[] {
  const tokens: Token[] = [];
  const re = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}[\],:])|(\s+)|(.)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) {
    if (m[1]) {
      push(tokens, m[1], m[2] ? 'key' : 'str');
      if (m[2]) push(tokens, m[2], 'punct');
    } else if (m[3]) push(tokens, m[3], 'num');
    else if (m[4]) push(tokens, m[4], 'kw');
    else if (m[5]) push(tokens, m[5], 'punct');
    else push(tokens, m[0], null);
  }
  return tokens;
}

export function highlight(code: string, lang: string): Token[] {
  switch (lang) {
    case 'sh':
    case 'bash':
    case 'shell':
      return code.split('\n').flatMap((line, n) => (n > 0 ? [{ text: '\n', kind: null }, ...highlightShell(line)] : highlightShell(line)));
    case 'console':
    case 'shell-session':
      return highlightConsole(code);
    case 'json':
      return highlightJson(code);
    case 'text':
    case 'output':
    case '':
      return highlightOutput(code);
    default:
      return [{ text: code, kind: null }];
  }
}

// ---------- rehype plugin (runs inside mdx-bundler at bundle time) ----------

interface HastNode {
  type: string;
  tagName?: string;
  value?: string;
  properties?: Record<string, unknown>;
  children?: HastNode[];
}

function textContent(node: HastNode): string {
  if (node.type === 'text') return node.value ?? '';
  return (node.children ?? []).map(textContent).join('');
}

/** rehype plugin: `<pre><code class="language-x">` → highlighted spans, `data-lang` on the pre. */
export function rehypeHighlight() {
  return (tree: HastNode) => {
    const visit = (node: HastNode): void => {
      if (node.type === 'element' && node.tagName === 'pre') {
        const code = node.children?.find((c) => c.type === 'element' && c.tagName === 'code');
        if (code) {
          const classes = code.properties?.className;
          const list = Array.isArray(classes) ? classes.map(String) : typeof classes === 'string' ? classes.split(' ') : [];
          const lang = list.find((c) => c.startsWith('language-'))?.slice('language-'.length) ?? '';
          const source = textContent(code).replace(/\n$/, '');
          code.children = highlight(source, lang).map((token) =>
            token.kind
              ? { type: 'element', tagName: 'span', properties: { className: [`tok-${token.kind}`] }, children: [{ type: 'text', value: token.text }] }
              : { type: 'text', value: token.text },
          );
          node.properties = { ...(node.properties ?? {}), dataLang: lang || 'text', className: ['code-block'] };
        }
        return;
      }
      for (const child of node.children ?? []) visit(child);
    };
    visit(tree);
  };
}
