"""The front-desk calendar, by job.

- `page`: everything the calendar template shows (navigation, columns, rows, notices);
- `grid`: which columns and quarter-hour rows, what sits in each cell, read in a fixed handful
  of queries;
- `cells`: the grid's pieces (column, cell, row);
- `display`: the strings a cell prints, formatted once in Python;
- `cache`: the rendered grid, cached under the calendar version;
- `links`: addresses into the calendar.

The view (`treatments/views/calendar.py`) only parses the query and renders.
"""
