-- The database's JIT setting: revision 0015. The current definition (head).
--
-- PostgreSQL compiles a query's expressions with LLVM when the plan's estimated cost passes jit_above_cost
-- (100 000). A search reads the top of its word lists but is costed as if it read them whole: at 1 000 000
-- photos the plan of 20 words joined by OR is estimated at 1.8 million, compiled in 460 ms and then run in
-- 26 ms; at 100 000 it stays under the threshold. JIT pays only for long analytical queries, and Immich runs
-- none: it is turned off for this database, unless the database already has its own JIT setting (its owner
-- chose). aio.install records that aio set it, so that the downgrade removes only its own setting. It takes
-- effect for connections opened afterwards (Immich's, once it restarts). Without the right to alter the
-- database, the upgrade warns and goes on: searches stay right, and only such plans are slow.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting AS s, unnest(s.setconfig) AS c
                 WHERE s.setdatabase = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
                   AND s.setrole = 0 AND split_part(c, '=', 1) = 'jit') THEN
    EXECUTE 'ALTER DATABASE ' || quote_ident(current_database()) || ' SET jit = off';
    INSERT INTO aio.install VALUES ('database_jit_off', 'true');
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING USING MESSAGE = 'aio: JIT stays on for database ' || quote_ident(current_database()) || ' ('
    || SQLERRM || '): searches of many words on a large library plan slowly; its owner can run ALTER DATABASE '
    || quote_ident(current_database()) || ' SET jit = off';
END
$$;
