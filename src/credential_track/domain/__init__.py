"""The domain of Credential Track: plain Python, no Flask, no database.

Statuses, actions, refusal reasons and the transition table; code formats
(UPU S10, domestic EMS, system-issued bag/trip/seal codes); routing of an
item to a dispatch route from its province; masking of personal data.
"""
