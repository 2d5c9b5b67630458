#ifndef SEGEXPORT_FILTER_H
#define SEGEXPORT_FILTER_H
/* The job's filters (SPEC §5) and the event window (SPEC §6). */
#include <stdbool.h>
#include "job.h"
#include "profile.h"

/* For an assembled profile: sets qual[i] for every filter.segments entry i the
 * profile qualifies for (qual has job->nsegs entries; may be NULL when nsegs is 0)
 * and returns true when the profile is exported: emptyProfiles, then
 * fromIngestTimestamp (updated time strictly greater), then segments (at least one
 * entry qualifies) or, with no segments but a segmentQualificationTime, at least
 * one realized/existing membership (any namespace) inside the window
 * start <= lastQualificationTime < end.  Membership entries are read from
 * p->merged's segmentMembership[ns][segmentId] ({status, lastQualificationTime}). */
bool se_filter_profile(const se_job *job, const se_profile *p, bool *qual);

/* True when the event belongs in timeSeriesEvents: ingest time strictly after
 * filter.fromIngestTimestamp and eventList.filter.fromIngestTimestamp (each if
 * given), strictly before eventList.filter.toIngestTimestamp (if given); an event
 * without ingest time fails any of these. */
bool se_filter_event(const se_job *job, const se_record *ev);

#endif
