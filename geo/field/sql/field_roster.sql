-- A level-3 grid's roster: its people by post (members by duty) and its three squads with
-- their members (leader first). No row when the caller may see no such grid: a scoped caller
-- sees the grids of scope_grids() (migration p0015), which holds the grid its micro-grid lies
-- in; every other caller sees every grid.
WITH g AS (
    SELECT s.region, s.code, s.name FROM scope_grids() s
    WHERE s.region = :region AND s.code = :grid
    UNION
    SELECT a.region, a.code, a.name FROM areas a
    WHERE COALESCE(current_setting('gridsafe.scope', true), '') = ''
      AND a.region = :region AND a.code = :grid AND a.level = 'grid3'
)
SELECT json_build_object(
    'grid', g.code,
    'name', g.name,
    'people', COALESCE((
        SELECT json_agg(json_build_object('post', p.post, 'duty', p.duty, 'name', p.name,
                                          'phone', p.phone)
                        ORDER BY array_position(ARRAY['grid_head', 'building_head', 'road_head',
                                                      'member', 'secretary'], p.post),
                                 p.position)
        FROM grid_people p WHERE p.region = g.region AND p.grid_code = g.code), '[]'),
    'squads', COALESCE((
        SELECT json_agg(json_build_object(
            'kind', s.kind, 'name', s.name,
            'members', COALESCE((
                SELECT json_agg(json_build_object('name', m.name, 'phone', m.phone,
                                                  'leads', m.leads)
                                ORDER BY m.leads DESC, m.id)
                FROM squad_members m
                WHERE m.region = s.region AND m.grid_code = s.grid_code AND m.kind = s.kind),
                '[]'))
            ORDER BY array_position(ARRAY['mediation', 'inspection', 'patrol'], s.kind))
        FROM squads s WHERE s.region = g.region AND s.grid_code = g.code), '[]')
)
FROM g
