"""The intake: how a file comes in (formats, headers, encodings, the source CRS, batches)."""
