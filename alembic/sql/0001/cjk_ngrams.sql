-- aio.cjk_ngrams(body): revision 0001.
-- The current definition (head).

-- CJK unigrams and bigrams with positions; runs are one position apart so no phrase crosses them.
CREATE FUNCTION aio.cjk_ngrams(body text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  WITH runs AS (
    SELECT m.match[1] AS run, m.n
      FROM regexp_matches(coalesce(body, ''), '([一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]+)', 'g') WITH ORDINALITY AS m(match, n)
  ), placed AS (
    SELECT run, (sum(char_length(run) + 1) OVER (ORDER BY n) - char_length(run))::int AS start FROM runs
  )
  SELECT coalesce(string_agg(quote_literal(gram) || ':' || least(pos, 16383), ' '), '')::tsvector
  FROM (
    SELECT substr(run, i, 1) AS gram, start + i - 1 AS pos FROM placed, generate_series(1, char_length(run)) AS i
    UNION ALL
    SELECT substr(run, i, 2), start + i - 1 FROM placed, generate_series(1, char_length(run) - 1) AS i
  ) grams
$$;
