/**
 * MovieLens title handling. Titles look like "American President, The (1995)" or
 * "City of Lost Children, The (Cité des enfants perdus, La) (1995)": the year is the last
 * parenthesised four-digit number (sometimes a range such as "(2006-2007)"), and leading articles are
 * moved behind a comma. Text encoders and search queries want the natural form, so the article is put
 * back in front ("The American President").
 */

export interface ParsedTitle {
  /** Natural-order title without the year, alternate titles kept: "The City of Lost Children (Cité des enfants perdus, La)". */
  title: string;
  /** Main title only, natural order, without alternate titles: "The City of Lost Children". */
  mainTitle: string;
  year: number | null;
}

// Articles that MovieLens moves to the end of a title, in several languages.
const ARTICLES = new Set([
  'The', 'A', 'An', 'Les', 'La', 'Le', "L'", 'Il', 'El', 'Los', 'Las', 'Lo', 'Die', 'Das', 'Der', 'Den', 'Det',
  'De', 'Het', 'Een', 'Gli', 'I', 'Un', 'Une', 'Uno', 'Una', 'O', 'Os', 'As', 'Ta', 'To', 'Ein', 'Eine',
]);

const YEAR_AT_END = /\s*\((\d{4})(?:\s*[-\u2013]\s*(?:\d{4})?)?\)\s*$/;

/** Moves a trailing ", The" style article to the front. */
function unmoveArticle(s: string): string {
  const m = /^(.*), ([A-Z][a-z]*'?)$/.exec(s.trim());
  if (!m || !ARTICLES.has(m[2])) return s.trim();
  return m[2].endsWith("'") ? `${m[2]}${m[1]}` : `${m[2]} ${m[1]}`;
}

export function parseMovieTitle(raw: string): ParsedTitle {
  let rest = raw.trim();
  let year: number | null = null;
  const ym = YEAR_AT_END.exec(rest);
  if (ym) {
    year = Number(ym[1]);
    rest = rest.slice(0, ym.index).trim();
  }
  // Main title = text before the first " (" that opens an alternate title closing at the end.
  let main = rest;
  let alt = '';
  const open = rest.indexOf(' (');
  if (open > 0 && rest.endsWith(')')) {
    main = rest.slice(0, open);
    alt = rest.slice(open + 1);
  }
  const mainNatural = unmoveArticle(main);
  const altNatural = alt ? `(${unmoveArticle(alt.slice(1, -1))})` : '';
  return {
    title: altNatural ? `${mainNatural} ${altNatural}` : mainNatural,
    mainTitle: mainNatural || rest,
    year,
  };
}
