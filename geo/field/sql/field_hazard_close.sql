-- Close a hazard whose rectification is done (an open one only: a closed one keeps its day).
UPDATE hazards SET status = 'closed', closed_at = :closed_at
WHERE region = :region AND id = :id AND status = 'open'
