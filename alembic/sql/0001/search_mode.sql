-- aio.search_mode(): revision 0001.
-- The current definition (head).

CREATE FUNCTION aio.search_mode() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT value FROM aio.install WHERE key = 'mode' $$;
