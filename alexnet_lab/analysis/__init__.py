"""Computing, never drawing, never training: hooks, layer tables, receptive fields, window
arithmetic, layer statistics, columns, colour, predictions and the one table renderer."""
