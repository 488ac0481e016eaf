"""``unpaired-report``: a folder of runs (single runs, multiruns, Optuna studies) as one table.

:mod:`.runs` reads what each run wrote, :mod:`.table` groups the runs by configuration and
averages over seeds, :mod:`.render` writes the table for the terminal, CSV and Markdown, and
:mod:`.plots` draws the PNG figures."""
