"""Stable error codes of the evaluation app (raised as yiwang.core.errors classes).

Other apps and API clients may rely on these strings; never rename one.
"""

from __future__ import annotations

# rating_invite: what a calling service passed
SUBJECT_INVALID = "evaluation.subject_invalid"
TITLE_INVALID = "evaluation.title_invalid"
CHANNEL_INVALID = "evaluation.channel_invalid"
RATER_INVALID = "evaluation.rater_invalid"
# the subject already has an invitation for another rater or department
INVITATION_MISMATCH = "evaluation.invitation_mismatch"

# rating_submit
NOT_RATER = "evaluation.not_rater"
ALREADY_RATED = "evaluation.already_rated"
LEVEL_INVALID = "evaluation.level_invalid"
COMMENT_REQUIRED = "evaluation.comment_required"
COMMENT_TOO_LONG = "evaluation.comment_too_long"
# rating_record: a rating from an account is real-name by definition
REAL_NAME_INVALID = "evaluation.real_name_invalid"

# rectification (整改)
NOT_RECTIFIER = "evaluation.not_rectifier"
NOT_SUPERVISOR = "evaluation.not_supervisor"
RECTIFICATION_STATE = "evaluation.rectification_state"
DISPOSITION_INVALID = "evaluation.disposition_invalid"
REPLY_INVALID = "evaluation.reply_invalid"
FOLLOW_UP_RESULT_INVALID = "evaluation.follow_up_result_invalid"
FOLLOW_UP_NOTE_INVALID = "evaluation.follow_up_note_invalid"
