import { describe, expect, it } from "vitest";
import { codeSpan, escapeMarkdown, escapeMarkdownMessage } from "./markdown-escape.ts";

/** Whatever Markdown would act on: a mention, an image or link, raw HTML, an unescaped code span or emphasis, a new line. */
const active = /(^|[^\\])(@(?!\u200b)|!\[|\]\(|<[a-z/!]|`|\*\*|~~|\n)/i;

describe("escapeMarkdown", () => {
  it.each([
    "@everyone please pay",
    "@msp/billing-team",
    "![x](https://evil/x.png)",
    "[click](https://evil/)",
    "<img src=x onerror=alert(1)>",
    "</details><details open>",
    "<!-- cwsync-plan -->",
    "`code` and ``more``",
    "**bold** __under__ ~~struck~~",
    "line one\nline two",
    "a | b",
  ])("leaves nothing active in %j", (hostile) => {
    const out = escapeMarkdown(hostile);
    expect(out).not.toMatch(active);
    expect(out).not.toContain("\n");
    expect(out.replace(/\\\|/g, "")).not.toContain("|");
  });

  it("breaks a mention with a zero-width space and HTML with entities, and escapes a heading, a list or a quote at the start", () => {
    expect(escapeMarkdown("@octocat")).toBe("@\u200boctocat");
    expect(escapeMarkdown("a < b & c > d")).toBe("a &lt; b &amp; c &gt; d");
    expect(escapeMarkdown("# title")).toBe("\\# title");
    expect(escapeMarkdown("- item")).toBe("\\- item");
    expect(escapeMarkdown("1. item")).toBe("1\\. item");
    expect(escapeMarkdown("> quote")).toBe("&gt; quote");
    expect(escapeMarkdown("Acme Corporation")).toBe("Acme Corporation");
  });

  it("shows control and bidirectional characters escaped", () => {
    expect(escapeMarkdown("a\u202eb\nc")).toBe("a\\\\u202eb\\\\nc");
  });
});

describe("codeSpan", () => {
  it("fences a value with more backticks than it holds, padded when it starts or ends with one", () => {
    expect(codeSpan("customers/acme.yaml")).toBe("`customers/acme.yaml`");
    expect(codeSpan("a`b")).toBe("``a`b``");
    expect(codeSpan("`x`")).toBe("`` `x` ``");
    expect(codeSpan("a|b", { table: true })).toBe("`a\\|b`");
    expect(codeSpan("a\nb")).toBe("`a\\nb`");
  });
});

describe("escapeMarkdownMessage", () => {
  it("keeps the message's code spans and escapes the rest, however a hostile value pairs the backticks", () => {
    expect(escapeMarkdownMessage("unknown key `bogus` in @team")).toBe("unknown key `bogus` in @\u200bteam");
    const hostile = "unknown key `a` ![x](https://evil/x.png) <img src=x> `b`";
    const out = escapeMarkdownMessage(hostile);
    const prose = out.split(/`[^`]*`/).join("");
    expect(prose).not.toMatch(/(^|[^\\])(!\[|\]\(|<[a-z]|@(?!\u200b))/i);
    expect(escapeMarkdownMessage("a\nb")).toBe("a<br>b");
    expect(escapeMarkdownMessage("use `a|b` | c", { table: true })).toBe("use `a\\|b` \\| c");
  });
});
