"""A small clinic back end, bundled as flake8-dbconstraints' example.

It declares its models in every style the plugin reads (see ``models``,
``legacy`` and ``api_models``) and uses them from ``services``. A few guards
in ``services`` are dead or lose data; ``EXPECTED.txt`` lists what
``flake8 --select DBC clinic`` reports for them. The rest of the code is
correct and must stay silent.
"""
