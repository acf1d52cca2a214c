-- One photo of a record; the same photo (by the digest of what was sent) is kept once.
INSERT INTO field_photos (region, record_kind, record_id, area_code, sha256, media_type, width,
                          height, content, thumbnail, taken_by)
VALUES (:region, :kind, :record_id, :area_code, :sha256, 'image/jpeg', :width, :height,
        :content, :thumbnail, :taken_by)
ON CONFLICT (region, record_kind, record_id, sha256) DO NOTHING
