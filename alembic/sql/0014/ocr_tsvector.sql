-- aio.ocr_tsvector(body): revision 0014.
-- Replaces 0004/ocr_tsvector.sql; 0014's downgrade restores that one.
-- The current definition (head).
--
-- As in 0004, with the dictionary words nested at any depth: zhparser's short-word emission gives the words one
-- level inside a compound (上海野生动物园: 上海 野生 动物园), not those inside them (动物, in 动物园). Each word of
-- three characters or more is parsed again alone, and what it holds is added at its place, until nothing new
-- comes (at most four levels). Only words the document does not hold yet are added, so the words it has keep
-- their places and ranks; and only whole dictionary words inside the word that holds them: a word across two of
-- them is not (上海南站 is 上海 南站: 海南 is no word of it).
CREATE OR REPLACE FUNCTION aio.ocr_tsvector(body text) RETURNS tsvector LANGUAGE plpgsql STABLE PARALLEL SAFE
SET zhparser.multi_short = on
SET zhparser.punctuation_ignore = on
AS $$
DECLARE
  n text := aio.normalize(coalesce(body, ''));
  words tsvector := to_tsvector('aio.zh', n);
  outer_words tsvector := words;
  inner_words tsvector;
BEGIN
  FOR depth IN 1 .. 4 LOOP
    -- each word's own words, at the places of the word that holds them
    SELECT string_agg(quote_literal(i.lexeme) || ':' || array_to_string(o.positions, ','), ' ')::tsvector
      INTO inner_words
      FROM unnest(outer_words) AS o, unnest(to_tsvector('aio.zh', o.lexeme)) AS i
      WHERE char_length(o.lexeme) >= 3 AND o.lexeme ~ '^[一-鿿㐀-䶿豈-﫿぀-ヿ가-힯]+$'
        AND i.lexeme <> ALL (tsvector_to_array(words));
    EXIT WHEN inner_words IS NULL;
    -- merged as text: the operator || would move the inner words' places past the last word
    words := (words::text || ' ' || inner_words::text)::tsvector;
    outer_words := inner_words;
  END LOOP;
  RETURN setweight(words, 'A') || setweight(aio.cjk_ngrams(n), 'D') || aio.code_tsvector(n);
END
$$;
