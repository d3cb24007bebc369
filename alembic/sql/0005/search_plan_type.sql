-- The type aio.search_plan: revision 0005.
-- The current definition (head).
--
-- 0006 adds the attributes rest tsquery and rest_assets uuid[].

CREATE TYPE aio.search_plan AS (query tsquery, key_word text, key_filter text, or_words text[], typed_plain boolean);
