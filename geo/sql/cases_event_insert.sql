-- One step of a case's history: who moved it from which state to which, when and why.
INSERT INTO case_events (region, case_id, from_state, to_state, actor, at, squad, department,
                         note, reason, version)
VALUES ((SELECT c.region FROM cases c WHERE c.id = :case_id), :case_id, :from_state, :to_state, :actor, :at, :squad, :department, :note, :reason,
        :version)
