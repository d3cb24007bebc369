-- aio.char_variant: revision 0011 (filled by its upgrade: alembic/versions/0011_spellings.py's variant_pairs()).
-- The current definition (head).
--
-- Characters of the searchable form that one Traditional character serves for: a query with `src` also looks
-- for the same text with `alt` (aio.term_query). Each pair is there both ways.
CREATE TABLE aio.char_variant (src text NOT NULL, alt text NOT NULL, PRIMARY KEY (src, alt));
